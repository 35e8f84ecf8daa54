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
import { parseArgs, tracingFetch } from './common.mjs';

const { url, mode, headers, trace } = parseArgs(process.argv.slice(2), ['auto', 'handshake']);

const client = new Client(
  { name: 'mcp-lambda-tests-ts-v2', version: '1.0.0' },
  mode === 'auto' ? { versionNegotiation: { mode: 'auto' } } : {},
);
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
    if (!(err instanceof ProtocolError)) throw err;
    unknownToolErrorCode = err.code;
    unknownToolErrorMessage = err.message;
  }

  const out = {
    negotiatedVersion: client.getNegotiatedProtocolVersion() ?? null,
    era: client.getProtocolEra() ?? null,
    tools: tools.map((t) => t.name),
    addResult: add.structuredContent ?? add.content?.find((c) => c.type === 'text')?.text ?? null,
    echoText: echo.content?.find((c) => c.type === 'text')?.text ?? null,
    unknownToolErrorCode,
    unknownToolErrorMessage,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  await client.close();
} catch (err) {
  process.stderr.write(`client-v2 (${mode}) failed: ${err?.stack ?? err}\n`);
  await client.close().catch(() => {});
  process.exit(1);
}
