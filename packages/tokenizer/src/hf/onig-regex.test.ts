import { describe, expect, it } from "vitest";
import { findMatches, translateOnigRegex } from "./onig-regex.js";

const texts = (regex: RegExp, text: string): string[] => findMatches(regex, text).map(([s, e]) => text.slice(s, e));

describe("translateOnigRegex", () => {
  it("makes (?i:...) groups case-insensitive without flagging the whole regex", () => {
    const regex = translateOnigRegex("(?i:'s|'ll)|a", "test");
    expect(texts(regex, "IT'S WE'LL A a")).toEqual(["'S", "'LL", "a"]);
  });

  it("gives \\s the Unicode White_Space meaning Oniguruma uses (NEL yes, BOM no)", () => {
    const regex = translateOnigRegex("\\s+", "test");
    expect(texts(regex, "a\u0085b\ufeffc")).toEqual(["\u0085"]);
  });

  it("gives \\d the Unicode decimal-digit meaning", () => {
    expect(texts(translateOnigRegex("\\d+", "test"), "x٣4")).toEqual(["٣4"]);
  });
});
