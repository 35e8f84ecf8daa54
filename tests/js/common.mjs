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
