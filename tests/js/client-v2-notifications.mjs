#!/usr/bin/env node
// TypeScript SDK v2 client: progress and log notifications from the conformance fixture server.
//
// Usage: node client-v2-notifications.mjs <url> <auto|handshake> [--header "Name: value"]... [--trace]
//   Calls `test_tool_with_progress` with an onprogress callback, then `test_tool_with_logging`
//   with log notifications asked for: in the handshake era by `logging/setLevel` 'debug'
//   (setLoggingLevel), in the 2026-07-28 era (where that method is gone) by the per-request
//   `_meta["io.modelcontextprotocol/logLevel"]` = 'debug'.
//
// Prints ONE JSON line on stdout:
//   {negotiatedVersion, era, progress: [{progress, total, message}], progressResultText,
//    logs: [{level, logger, data}], loggingResultText}
// Exits non-zero (with the reason on stderr) on any failure.
import { Client, StreamableHTTPClientTransport, LOG_LEVEL_META_KEY } from '@modelcontextprotocol/client';
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

const logs = [];
client.setNotificationHandler('notifications/message', (notification) => {
  const { level, logger, data } = notification.params;
  logs.push({ level, logger: logger ?? null, data });
});

const text = (result) => result.content?.find((c) => c.type === 'text')?.text ?? null;

try {
  await client.connect(transport);
  const modern = client.getProtocolEra() === 'modern';

  const progress = [];
  const progressResult = await client.callTool(
    { name: 'test_tool_with_progress', arguments: {} },
    { onprogress: ({ progress: value, total, message }) => progress.push({ progress: value, total, message }) },
  );
  if (progressResult.isError) throw new Error(`test_tool_with_progress isError: ${JSON.stringify(progressResult)}`);

  let loggingResult;
  if (modern) {
    loggingResult = await client.callTool({
      name: 'test_tool_with_logging',
      arguments: {},
      _meta: { [LOG_LEVEL_META_KEY]: 'debug' },
    });
  } else {
    await client.setLoggingLevel('debug');
    loggingResult = await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
  }
  if (loggingResult.isError) throw new Error(`test_tool_with_logging isError: ${JSON.stringify(loggingResult)}`);

  const out = {
    negotiatedVersion: client.getNegotiatedProtocolVersion() ?? null,
    era: client.getProtocolEra() ?? null,
    progress,
    progressResultText: text(progressResult),
    logs,
    loggingResultText: text(loggingResult),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  await client.close();
} catch (err) {
  process.stderr.write(`client-v2-notifications (${mode}) failed: ${err?.stack ?? err}\n`);
  await client.close().catch(() => {});
  process.exit(1);
}
