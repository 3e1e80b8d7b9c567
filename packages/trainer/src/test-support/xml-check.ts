// Test-only: a strict well-formedness check for the SVG the trainer writes (no XML parser is a dependency).

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
}

const TAG = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*="[^"<]*")*)\s*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z_][\w:.-]*)="([^"<]*)"/g;
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

/** Parses `text` as one XML document and returns its elements in document order; throws where it is not well-formed. */
export function checkWellFormedXml(text: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const open: string[] = [];
  let roots = 0;
  let at = 0;
  while (at < text.length) {
    const lt = text.indexOf("<", at);
    const chars = text.slice(at, lt === -1 ? text.length : lt);
    if (ENTITY.test(chars)) throw new Error(`bare & in text at ${at}`);
    if (open.length === 0 && chars.trim() !== "")
      throw new Error(`text outside the root element at ${at}: ${chars.trim().slice(0, 40)}`);
    if (lt === -1) break;
    TAG.lastIndex = lt;
    const match = TAG.exec(text);
    if (!match) throw new Error(`malformed tag at ${lt}: ${text.slice(lt, lt + 60)}`);
    const [whole, closing, name, attributeText, selfClosing] = match;
    at = lt + whole.length;
    if (closing) {
      if (attributeText || selfClosing) throw new Error(`closing tag </${name}> with attributes at ${lt}`);
      const expected = open.pop();
      if (expected !== name) throw new Error(`</${name}> at ${lt} closes <${expected ?? "nothing"}>`);
      continue;
    }
    if (open.length === 0 && ++roots > 1) throw new Error(`a second root element <${name}> at ${lt}`);
    const attributes: Record<string, string> = {};
    for (const [, key, value] of attributeText.matchAll(ATTRIBUTE)) {
      if (key in attributes) throw new Error(`attribute ${key} repeated on <${name}> at ${lt}`);
      if (ENTITY.test(value)) throw new Error(`bare & in attribute ${key} of <${name}> at ${lt}`);
      attributes[key] = value;
    }
    elements.push({ name, attributes });
    if (!selfClosing) open.push(name);
  }
  if (open.length) throw new Error(`unclosed <${open.join(">, <")}>`);
  if (roots !== 1) throw new Error("no root element");
  return elements;
}

/** The vertices of an SVG path made only of absolute M / L commands. */
export function pathVertices(d: string): { x: number; y: number }[] {
  const commands = d.trim().split(/\s+/);
  return commands.map((command, i) => {
    const match = /^([ML])(-?[\d.]+),(-?[\d.]+)$/.exec(command);
    if (!match || (match[1] === "M") !== (i === 0)) throw new Error(`unexpected path command ${command} at ${i}`);
    return { x: Number(match[2]), y: Number(match[3]) };
  });
}
