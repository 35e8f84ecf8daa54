// A tiny MCP Apps host, as Claude or the Inspector would be: an MCP client (TypeScript SDK v2)
// to the server, and the ext-apps AppBridge to the view in a sandboxed iframe. The client talks
// to /mcp on this page's own origin; the test's host backend adds the API key there, so no
// credential ever reaches a browser, let alone the view.
//
// Query: ?era=modern|handshake&tool=<name>&args=<json>
import { AppBridge, PostMessageTransport, RESOURCE_MIME_TYPE, getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const query = new URLSearchParams(location.search);
const era = query.get("era") ?? "handshake";
const toolName = query.get("tool") ?? "items_list";
const args = JSON.parse(query.get("args") ?? "{}");
const status = document.getElementById("status");
const hostInfo = { name: "board-test-host", version: "1.0.0" };

/** The CSP a host derives from the resource's `_meta.ui.csp` (no domain: no connection at all). */
function cspOf(csp = {}) {
  const clean = (list) => (Array.isArray(list) ? list.filter((d) => typeof d === "string" && !/[;\s'"]/.test(d)) : []);
  const resources = clean(csp.resourceDomains).join(" ");
  const connect = clean(csp.connectDomains).join(" ") || "'none'";
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${resources}`.trim(),
    `style-src 'unsafe-inline' ${resources}`.trim(),
    `img-src data: ${resources}`.trim(),
    `font-src data: ${resources}`.trim(),
    `connect-src ${connect}`,
    "frame-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

function withCsp(html, policy) {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy.replace(/"/g, "&quot;")}">`;
  return html.replace(/<head>/i, `<head>${meta}`);
}

async function main() {
  const client = new Client(hostInfo, {
    // What a host that renders Apps declares (handshake era: in initialize; 2026-07-28: in every envelope).
    capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: [RESOURCE_MIME_TYPE] } } },
    ...(era === "modern" ? { versionNegotiation: { mode: "auto" } } : {}),
  });
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href)));
  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name === toolName);
  const uri = getToolUiResourceUri(tool);
  if (!uri) throw new Error(`${toolName} names no UI resource`);
  const read = await client.readResource({ uri });
  const [content] = read.contents;
  if (content.mimeType !== RESOURCE_MIME_TYPE) throw new Error(`unexpected MIME type ${content.mimeType}`);
  const ui = content._meta?.ui ?? {};

  const iframe = document.createElement("iframe");
  iframe.id = "board";
  iframe.title = "Item board";
  iframe.setAttribute("sandbox", "allow-scripts allow-forms"); // opaque origin: no storage, no cookies
  document.body.append(iframe);

  const capabilities = client.getServerCapabilities();
  const bridge = new AppBridge(
    client,
    hostInfo,
    { serverTools: capabilities?.tools ?? {}, serverResources: capabilities?.resources ?? {}, logging: {} },
    { hostContext: { theme: "light", displayMode: "inline", toolInfo: { tool }, platform: "web" } },
  );
  bridge.onsizechange = ({ height }) => {
    if (height !== undefined) iframe.style.height = `${height}px`;
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.srcdoc = withCsp(content.text, cspOf(ui.csp));
  await initialized;

  bridge.sendToolInput({ arguments: args });
  const result = await client.callTool({ name: toolName, arguments: args });
  await bridge.sendToolResult(result);

  // For the test driver: another agent's writes, made by the host, never by the view.
  window.boardHost = {
    era: client.getProtocolEra?.() ?? null,
    version: client.getNegotiatedProtocolVersion?.() ?? null,
    callTool: (name, toolArgs) => client.callTool({ name, arguments: toolArgs }),
    resourceMeta: ui,
  };
  status.textContent = `host ready (${window.boardHost.version})`;
}

main().catch((error) => {
  status.textContent = `host failed: ${error?.stack ?? error}`;
  window.boardHostError = String(error?.stack ?? error);
});
