// The chat page is bundled as text (tsup `loader: { '.html': 'text' }`, and the same in vitest).
declare module "*.html" {
  const text: string;
  export default text;
}
