// Helpers shared by the client-*.mjs scripts: argument parsing and an optional tracing fetch.

/** Parse `<url> <mode> [--header "Name: value"]... [--trace]`; exit 2 on bad usage. */
export function parseArgs(argv, modes) {
  const positional = [];
  const headers = {};
  let trace = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--header') {
      const value = argv[++i];
      const colon = value?.indexOf(':') ?? -1;
      if (colon <= 0) usage(`bad --header ${JSON.stringify(value)} (want "Name: value")`, modes);
      headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
    } else if (arg === '--trace') {
      trace = true;
    } else if (arg.startsWith('--')) {
      usage(`unknown option ${arg}`, modes);
    } else {
      positional.push(arg);
    }
  }
  const [url, mode] = positional;
  if (positional.length !== 2 || !modes.includes(mode)) usage('need exactly <url> <mode>', modes);
  try {
    new URL(url);
  } catch {
    usage(`bad url ${JSON.stringify(url)}`, modes);
  }
  return { url, mode, headers, trace };
}

function usage(problem, modes) {
  process.stderr.write(`${problem}\nusage: <url> <${modes.join('|')}> [--header "Name: value"]... [--trace]\n`);
  process.exit(2);
}

/** A fetch that logs each exchange to stderr (bodies included; SSE bodies are read from a clone). */
export async function tracingFetch(input, init) {
  const method = init?.method ?? 'GET';
  process.stderr.write(`>>> ${method} ${input}\n`);
  const hdrs = new Headers(init?.headers);
  for (const [k, v] of hdrs) process.stderr.write(`>>> ${k}: ${k === 'authorization' ? '<redacted>' : v}\n`);
  if (init?.body) process.stderr.write(`>>> ${init.body}\n`);
  const response = await fetch(input, init);
  process.stderr.write(`<<< ${response.status} ${response.headers.get('content-type') ?? ''}\n`);
  response
    .clone()
    .text()
    .then((text) => process.stderr.write(`<<< ${text}\n`))
    .catch(() => {});
  return response;
}

/** Streamable HTTP transport options: the `--header` values on every request, the tracing fetch on `--trace`. */
export function transportOptions({ headers, trace }) {
  return { requestInit: { headers }, ...(trace ? { fetch: tracingFetch } : {}) };
}

/** v2 Client options for a mode: 'auto' probes server/discover (then speaks 2026-07-28); 'handshake' is the default. */
export function v2ClientOptions(mode) {
  return mode === 'auto' ? { versionNegotiation: { mode: 'auto' } } : {};
}

/** The text of a tool result's first text block, or null. */
export const textOf = (result) => result.content?.find((c) => c.type === 'text')?.text ?? null;

/** Call a tool and return its result; throw when the result is an error (isError). */
export async function callToolOk(client, params, options) {
  const result = await client.callTool(params, options);
  if (result.isError) throw new Error(`${params.name} returned isError: ${JSON.stringify(result)}`);
  return result;
}

/**
 * The session both SDK generations run against the product: list tools, call add and echo, then an unknown
 * tool, which must throw the SDK's protocol error (`ProtocolErrorClass`: v1 McpError, v2 ProtocolError).
 * Returns {tools, addResult, echoText, unknownToolErrorCode, unknownToolErrorMessage}.
 */
export async function toolSession(client, ProtocolErrorClass) {
  const { tools } = await client.listTools();
  const add = await callToolOk(client, { name: 'add', arguments: { a: 2, b: 3 } });
  const echo = await callToolOk(client, { name: 'echo', arguments: { text: 'héllo ✓' } });

  let unknownToolErrorCode = null;
  let unknownToolErrorMessage = null;
  try {
    const result = await client.callTool({ name: 'no_such_tool', arguments: {} });
    unknownToolErrorMessage = `no error thrown; result: ${JSON.stringify(result)}`;
  } catch (err) {
    if (!(err instanceof ProtocolErrorClass)) throw err;
    unknownToolErrorCode = err.code;
    unknownToolErrorMessage = err.message;
  }
  return {
    tools: tools.map((t) => t.name),
    addResult: add.structuredContent ?? textOf(add),
    echoText: textOf(echo),
    unknownToolErrorCode,
    unknownToolErrorMessage,
  };
}

/**
 * Connect `client` over `transport`, run `body()` and print what it returns as ONE JSON line on stdout.
 * On any failure: the reason on stderr (prefixed `<script> (<mode>) failed:`), the client closed, exit 1.
 */
export async function runClient({ script, mode, client, transport }, body) {
  try {
    await client.connect(transport);
    const out = await body();
    process.stdout.write(JSON.stringify(out) + '\n');
    await client.close();
  } catch (err) {
    process.stderr.write(`${script} (${mode}) failed: ${err?.stack ?? err}\n`);
    await client.close().catch(() => {});
    process.exit(1);
  }
}
