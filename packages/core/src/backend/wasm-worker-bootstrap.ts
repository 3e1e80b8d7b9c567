/** Message a bootstrapped pthread worker posts when its script could not start; the main thread turns it into a fallback. */
export const WORKER_FAILED = "llamats:wasm-worker-failed";

/**
 * Runs (with `eval: true`) in each pthread worker of tfjs-backend-wasm's threaded build in Node, in place of the
 * blob: URL that Node cannot start. `workerData.script` is the Blob tfjs made for the Emscripten worker script and
 * `workerData.requires` the bundle's `require$$N` names. It defines the free names the bundled factory (which
 * tfjs sends to workers as `factory.toString()`) refers to, holds messages until the script has run, and serves
 * the factory Blob of the "load" message to the script's synchronous `importScripts`.
 */
export const WORKER_BOOTSTRAP = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
for (const [name, mod] of Object.entries(workerData.requires)) globalThis[name] = require(mod);
globalThis.commonjsGlobal = globalThis;
globalThis.__values = function (o) { var s = typeof Symbol === 'function' && Symbol.iterator, m = s && o[s], i = 0; if (m) return m.call(o); if (o && typeof o.length === 'number') return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } }; throw new TypeError('Object is not iterable.'); };
globalThis.__read = function (o, n) { var m = typeof Symbol === 'function' && o[Symbol.iterator]; if (!m) return o; var i = m.call(o), r, ar = [], e; try { while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value); } catch (error) { e = { error: error }; } finally { try { if (r && !r.done && (m = i['return'])) m.call(i); } finally { if (e) throw e.error; } } return ar; };
globalThis.__spreadArray = function (to, from, pack) { if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) { if (ar || !(i in from)) { if (!ar) ar = Array.prototype.slice.call(from, 0, i); ar[i] = from[i]; } } return to.concat(ar || Array.prototype.slice.call(from)); };
const FACTORY = '[llamats wasm factory]';
const fail = (error) => parentPort.postMessage({ cmd: '${WORKER_FAILED}', message: String((error && error.stack) || error) });
let deliver = null;
let factoryText = '';
const on = parentPort.on;
parentPort.on = function (event, listener) {
  if (event === 'message' && !deliver) { deliver = listener; return this; }
  return on.call(this, event, listener);
};
const ready = workerData.script.text().then((code) => {
  (0, eval)(code);
  const importScripts = globalThis.importScripts;
  globalThis.importScripts = (f) => (f === FACTORY ? (0, eval)(factoryText) : importScripts(f));
});
let chain = ready;
on.call(parentPort, 'message', (data) => {
  chain = chain.then(async () => {
    if (data && data.cmd === 'load' && data.urlOrBlob instanceof Blob) {
      factoryText = await data.urlOrBlob.text();
      data.urlOrBlob = FACTORY;
    }
    deliver(data);
  }).catch(fail);
});
ready.catch(fail);
`;
