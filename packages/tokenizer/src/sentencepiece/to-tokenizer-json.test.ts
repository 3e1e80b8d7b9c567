import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prettyJson } from '../pretty-json.js';
import { fixturePath, readFixtureBytes } from '../testing/fixtures.js';
import { parseModelProto } from './model-proto.js';
import { sentencePieceToTokenizerJson } from './to-tokenizer-json.js';

describe('sentencePieceToTokenizerJson', () => {
  it('writes the same tokenizer.json transformers wrote for the fixture model, byte for byte', () => {
    const model = parseModelProto(readFixtureBytes('tokenizer-sp', 'tokenizer.model'));
    const expected = readFileSync(fixturePath('tokenizer-sp-hf', 'tokenizer.json'), 'utf8');
    expect(prettyJson(sentencePieceToTokenizerJson(model))).toBe(expected);
  });
});
