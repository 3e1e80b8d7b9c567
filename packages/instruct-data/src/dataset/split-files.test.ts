import { ConfigError } from "@llamats/core";
import { describe, expect, it } from "vitest";
import { selectSplitFiles, splitsOf } from "./split-files.js";

describe("selectSplitFiles (the datasets library conventions)", () => {
  it("push_to_hub shards: data/{split}-NNNNN-of-NNNNN[-hash].parquet, any split name", () => {
    const repo = [
      ".gitattributes",
      "README.md",
      "data/train-00000-of-00002-a09b74b3ef9c3b56.parquet",
      "data/train-00001-of-00002-ffff.parquet",
      "data/test-00000-of-00001.parquet",
      "data/train_sft-00000-of-00001.parquet",
    ];
    expect(selectSplitFiles(repo, "train")).toEqual({
      files: ["data/train-00000-of-00002-a09b74b3ef9c3b56.parquet", "data/train-00001-of-00002-ffff.parquet"],
      splits: ["train", "test", "train_sft"],
      convention: "sharded",
    });
    expect(selectSplitFiles(repo, "train_sft").files).toEqual(["data/train_sft-00000-of-00001.parquet"]);
  });

  it("split folders, as in the Hub parquet conversion (refs/convert/parquet)", () => {
    const repo = [
      "default/train/0000.parquet",
      "default/train/0001.parquet",
      "default/validation/0000.parquet",
      "default/partial-test/0000.parquet",
    ];
    expect(selectSplitFiles(repo, "train").files).toEqual(["default/train/0000.parquet", "default/train/0001.parquet"]);
    expect(selectSplitFiles(repo, "test").files).toEqual(["default/partial-test/0000.parquet"]);
    expect(splitsOf(repo).convention).toBe("directory");
  });

  it("file names with a split keyword between separators (train, training, valid, dev, eval …)", () => {
    const repo = ["train.jsonl", "my_dev-1.csv", "eval.json", "restraint.json", "dataset_info.json"];
    expect(selectSplitFiles(repo, "train").files).toEqual(["train.jsonl"]);
    expect(selectSplitFiles(repo, "validation").files).toEqual(["my_dev-1.csv"]);
    expect(selectSplitFiles(repo, "test").files).toEqual(["eval.json"]);
  });

  it("a dataset that names no split is all train; metadata, hidden and non-data files are never data", () => {
    const repo = [
      "alpaca_data.json",
      "extra/more.parquet",
      "dataset_infos.json",
      ".cache/x.json",
      "__pycache__/y.json",
      "README.md",
      "script.py",
    ];
    expect(selectSplitFiles(repo, "train")).toEqual({
      files: ["alpaca_data.json", "extra/more.parquet"],
      splits: ["train"],
      convention: "none",
    });
  });

  it("a missing split is a ConfigError naming the splits there are", () => {
    let error: unknown;
    try {
      selectSplitFiles(["train.json", "test.json"], "validation", "Dataset repo org/x");
    } catch (e) {
      error = e;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Dataset repo org/x has no "validation" split: its splits are train, test. Choose one with --split, or name files with --data-files.',
    );
    expect(() => selectSplitFiles(["notes.txt"], "train", "data/")).toThrow(
      /data\/ has no "train" split: it holds no data file/,
    );
  });
});
