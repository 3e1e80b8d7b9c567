// Verbs that open instructions (imperatives), for the verb–noun analysis; a list, not a parser.
export const INSTRUCTION_VERBS: ReadonlySet<string> = new Set(
  (
    "add adjust analyze analyse answer apply arrange assess assign brainstorm build calculate categorize change check choose " +
    "cite classify clean combine come compare compile complete compose compute conduct construct continue convert correct count " +
    "craft create critique decide define delete derive describe design detect determine develop devise diagnose differentiate " +
    "discuss distinguish divide do draft edit elaborate eliminate employ enumerate estimate evaluate examine expand explain " +
    "express extract figure fill find fix follow form format formulate generate give group guess help highlight identify " +
    "illustrate imagine improve include indicate infer insert interpret invent justify label list locate make match measure " +
    "mention modify multiply name narrate note offer order organize outline output paraphrase pick plan predict prepare " +
    "present pretend print produce propose provide put rank rate read rearrange recommend reconstruct recommend reformulate " +
    "rephrase replace report research respond restate restructure review revise rewrite reword say score select separate " +
    "share shorten show simplify solve sort specify spell split state substitute suggest summarise summarize support tag take " +
    "teach tell test think transform translate turn type underline update use utilize verify write"
  ).split(" "),
);

// Words that end a noun phrase (prepositions, conjunctions, wh-words) or never head one.
export const PHRASE_BREAKERS: ReadonlySet<string> = new Set(
  (
    "of for to in on about with from by at into onto that which who whom whose and or but using based given as so than between " +
    "describing explaining where when how what why whether if while like including containing without within through over under " +
    "is are was were be been being can could should would will"
  ).split(" "),
);

export const SKIPPED_BEFORE_OBJECT: ReadonlySet<string> = new Set(
  (
    "a an the this that these those some any each every your my our their its his her me us him them you it one two three four " +
    "five six seven eight nine ten few several many more most all both another other following up out down back"
  ).split(" "),
);

// Phrasal openers: the particle words that follow the verb before its object.
export const PHRASAL_PARTICLES: Readonly<Record<string, readonly string[]>> = {
  come: ["up", "with"],
  think: ["of", "about", "up"],
  figure: ["out"],
  fill: ["in"],
  find: ["out"],
  make: ["up"],
  point: ["out"],
  sum: ["up"],
  write: ["down", "out", "up"],
  put: ["together"],
};
