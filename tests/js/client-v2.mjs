#!/usr/bin/env node
// A real MCP client (TypeScript SDK v2, @modelcontextprotocol/client) against a Streamable HTTP server.
//
// Usage: node client-v2.mjs <url> <auto|handshake> [--header "Name: value"]... [--trace]
//   auto      — versionNegotiation {mode: 'auto'}: probes server/discover, then speaks 2026-07-28
//   handshake — the client's default: the initialize handshake (2025 era)
//   --trace   — log every HTTP exchange (method, status, bodies) to stderr
//
// Prints ONE JSON line on stdout:
//   {negotiatedVersion, era, tools, addResult, echoText, unknownToolErrorCode, unknownToolErrorMessage}
// Exits non-zero (with the reason on stderr) on any failure.
import { Client, StreamableHTTPClientTransport, ProtocolError } from '@modelcontextprotocol/client';
import { parseArgs, runClient, toolSession, transportOptions, v2ClientOptions } from './common.mjs';

const { url, mode, headers, trace } = parseArgs(process.argv.slice(2), ['auto', 'handshake']);

const client = new Client({ name: 'mcp-lambda-tests-ts-v2', version: '1.0.0' }, v2ClientOptions(mode));
const transport = new StreamableHTTPClientTransport(new URL(url), transportOptions({ headers, trace }));

await runClient({ script: 'client-v2', mode, client, transport }, async () => {
  const session = await toolSession(client, ProtocolError);
  return {
    negotiatedVersion: client.getNegotiatedProtocolVersion() ?? null,
    era: client.getProtocolEra() ?? null,
    ...session,
  };
});
