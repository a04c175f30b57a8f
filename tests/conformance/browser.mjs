#!/usr/bin/env node
// A headless $BROWSER for OAuth tests: it "approves" the login by following the authorization
// URL's redirects, as a browser does once the person has clicked "Allow", until it reaches
// mcpgw's loopback redirect. The page mcpgw answers with goes to BROWSER_LOG when set.
import { appendFileSync } from "node:fs";

const url = process.argv[2];
try {
  const response = await fetch(url, { redirect: "follow" });
  const text = await response.text();
  if (process.env.BROWSER_LOG) appendFileSync(process.env.BROWSER_LOG, `${url}\n${response.status} ${text}\n`);
} catch (e) {
  if (process.env.BROWSER_LOG) appendFileSync(process.env.BROWSER_LOG, `${url}\nfailed: ${e.message}\n`);
  process.exit(1);
}
