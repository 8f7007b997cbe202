// Parse Mermaid texts with mermaid's own parser, the one forges run in the browser.
// Node has no DOM, so jsdom gives mermaid's sanitizer (DOMPurify) the window it needs.
// Reads a JSON list of texts on stdin; prints a JSON list: null for a text that parses,
// else the parser's message.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const text of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    results.push(parsed.diagramType === "flowchart-v2" ? null : `parsed as ${parsed.diagramType}`);
  } catch (error) {
    results.push(String(error?.message ?? error));
  }
}
process.stdout.write(JSON.stringify(results));
