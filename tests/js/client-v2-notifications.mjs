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
import { callToolOk, parseArgs, runClient, textOf, transportOptions, v2ClientOptions } from './common.mjs';

const { url, mode, headers, trace } = parseArgs(process.argv.slice(2), ['auto', 'handshake']);

const client = new Client({ name: 'mcp-lambda-tests-ts-v2', version: '1.0.0' }, v2ClientOptions(mode));
const transport = new StreamableHTTPClientTransport(new URL(url), transportOptions({ headers, trace }));

const logs = [];
client.setNotificationHandler('notifications/message', (notification) => {
  const { level, logger, data } = notification.params;
  logs.push({ level, logger: logger ?? null, data });
});

await runClient({ script: 'client-v2-notifications', mode, client, transport }, async () => {
  const progress = [];
  const progressResult = await callToolOk(
    client,
    { name: 'test_tool_with_progress', arguments: {} },
    { onprogress: ({ progress: value, total, message }) => progress.push({ progress: value, total, message }) },
  );

  let loggingResult;
  if (client.getProtocolEra() === 'modern') {
    loggingResult = await callToolOk(client, {
      name: 'test_tool_with_logging',
      arguments: {},
      _meta: { [LOG_LEVEL_META_KEY]: 'debug' },
    });
  } else {
    await client.setLoggingLevel('debug');
    loggingResult = await callToolOk(client, { name: 'test_tool_with_logging', arguments: {} });
  }

  return {
    negotiatedVersion: client.getNegotiatedProtocolVersion() ?? null,
    era: client.getProtocolEra() ?? null,
    progress,
    progressResultText: textOf(progressResult),
    logs,
    loggingResultText: textOf(loggingResult),
  };
});
