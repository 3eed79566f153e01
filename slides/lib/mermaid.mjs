// Renders mermaid diagrams to SVG at build time, in the same headless
// Chromium that Marp uses for the PDF, so the deck needs no JavaScript and
// the PDF shows the same pictures as the HTML.

import { createRequire } from "node:module";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);

/** The browser: CHROME_PATH if set (as Marp reads it), else Debian's chromium. */
export function chromePath() {
  return process.env.CHROME_PATH || "/usr/bin/chromium";
}

/** The deck's colours, so diagrams match the theme (see theme/unstoppable.css). */
const themeVariables = {
  fontFamily: "Inter, 'DejaVu Sans', Arial, sans-serif",
  fontSize: "22px",
  primaryColor: "#e8f1fb",
  primaryBorderColor: "#1d4e89",
  primaryTextColor: "#14213d",
  lineColor: "#1d4e89",
  secondaryColor: "#fff4e0",
  tertiaryColor: "#f6f8fa",
  clusterBkg: "#f6f8fa",
  clusterBorder: "#9aa5b1",
  edgeLabelBackground: "#ffffff",
};

export async function startMermaid() {
  const browser = await puppeteer.launch({
    executablePath: chromePath(),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><body></body></html>");
  await page.addScriptTag({ path: require.resolve("mermaid/dist/mermaid.min.js") });
  await page.evaluate((themeVariables) => {
    // htmlLabels off: plain SVG text, which renders inside <img> and in PDFs.
    window.mermaid.initialize({
      startOnLoad: false,
      theme: "base",
      themeVariables,
      flowchart: { htmlLabels: false, curve: "basis" },
      sequence: {
        useMaxWidth: false, mirrorActors: false, actorFontSize: 22, messageFontSize: 22,
        noteFontSize: 20, width: 170, height: 56, boxMargin: 8, messageMargin: 34,
      },
      securityLevel: "strict",
    });
  }, themeVariables);
  let count = 0;
  return {
    /** SVG text for one diagram; a syntax error fails with mermaid's message. */
    async render(source, where) {
      count += 1;
      try {
        return await page.evaluate(async (id, source) => {
          const { svg } = await window.mermaid.render(id, source);
          return svg;
        }, `diagram-${count}`, source);
      } catch (error) {
        throw new Error(`${where}: the mermaid diagram does not render: ${error.message.split("\n")[0]}`);
      }
    },
    close: () => browser.close(),
  };
}
