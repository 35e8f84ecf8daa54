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
import { parseArgs, runClient, toolSession, transportOptions } from './common.mjs';

const { url, mode, headers, trace } = parseArgs(process.argv.slice(2), ['handshake']);

const client = new Client({ name: 'mcp-lambda-tests-ts-v1', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url), transportOptions({ headers, trace }));

await runClient({ script: 'client-v1', mode, client, transport }, async () => {
  const session = await toolSession(client, McpError);
  // v1's Client keeps the negotiated version on the transport (it sends it as MCP-Protocol-Version).
  return { negotiatedVersion: transport.protocolVersion ?? null, ...session };
});
