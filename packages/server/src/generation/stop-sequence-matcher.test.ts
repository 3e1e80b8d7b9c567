import { describe, expect, it } from "vitest";
import { StopSequenceMatcher } from "./stop-sequence-matcher.js";

const feed = (stops: string[], pieces: string[]) => {
  const matcher = new StopSequenceMatcher(stops);
  const out = pieces.map((piece) => matcher.push(piece));
  return { out, flushed: matcher.flush(), stopped: matcher.isStopped };
};

describe("StopSequenceMatcher", () => {
  it("cuts before a stop string split across pieces and never emits part of it", () => {
    const { out, flushed, stopped } = feed(["\n###"], ["Hello", " world\n", "#", "## more"]);
    expect(out).toEqual(["Hello", " world", "", ""]);
    expect(flushed).toBe("");
    expect(stopped).toBe(true);
  });

  it("releases held-back text once it can no longer start a stop string", () => {
    const { out, flushed, stopped } = feed(["END"], ["the E", "ND?", ""]);
    expect(out.join("") + flushed).toBe("the ");
    expect(stopped).toBe(true);
    const other = feed(["END"], ["the E", "nd"]);
    expect(other.out).toEqual(["the ", "End"]);
    expect(other.stopped).toBe(false);
  });

  it("picks the earliest of several stop strings and passes text through without stops", () => {
    expect(feed(["b", "a"], ["xxabc"]).out).toEqual(["xx"]);
    expect(feed([], ["a", "b"]).out).toEqual(["a", "b"]);
    expect(feed(["zz"], ["abz"]).flushed).toBe("z");
  });
});
