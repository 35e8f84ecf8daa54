#!/usr/bin/env node
// A real MCP client (TypeScript SDK v1, @modelcontextprotocol/sdk) against a Streamable HTTP server.
// The v1 SDK only knows the initialize handshake (2025 era).
//
// Usage: node client-v1.mjs <url> handshake [--header "Name: value"]... [--trace]
//
// Prints ONE JSON line on stdout:
//   {negotiatedVersion, tools, addResult, echoText, unknownToolErrorCode, unknownToolErrorMessage}
// Exits non-zero (with the reason on stderr) on any failure.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { parseArgs, tracingFetch } from './common.mjs';

const { url, mode, headers, trace } = parseArgs(process.argv.slice(2), ['handshake']);

const client = new Client({ name: 'mcp-lambda-tests-ts-v1', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers },
  ...(trace ? { fetch: tracingFetch } : {}),
});

try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const add = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  if (add.isError) throw new Error(`add returned isError: ${JSON.stringify(add)}`);
  const echo = await client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } });
  if (echo.isError) throw new Error(`echo returned isError: ${JSON.stringify(echo)}`);

  let unknownToolErrorCode = null;
  let unknownToolErrorMessage = null;
  try {
    const result = await client.callTool({ name: 'no_such_tool', arguments: {} });
    unknownToolErrorMessage = `no error thrown; result: ${JSON.stringify(result)}`;
  } catch (err) {
    if (!(err instanceof McpError)) throw err;
    unknownToolErrorCode = err.code;
    unknownToolErrorMessage = err.message;
  }

  const out = {
    // v1's Client keeps the negotiated version on the transport (it sends it as MCP-Protocol-Version).
    negotiatedVersion: transport.protocolVersion ?? null,
    tools: tools.map((t) => t.name),
    addResult: add.structuredContent ?? add.content?.find((c) => c.type === 'text')?.text ?? null,
    echoText: echo.content?.find((c) => c.type === 'text')?.text ?? null,
    unknownToolErrorCode,
    unknownToolErrorMessage,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  await client.close();
} catch (err) {
  process.stderr.write(`client-v1 (${mode}) failed: ${err?.stack ?? err}\n`);
  await client.close().catch(() => {});
  process.exit(1);
}
