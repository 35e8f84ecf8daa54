// Pure helpers of the board: no DOM, no host. What a tool result means for the board.

/** Max characters of a body shown in the list (the server's snippets are of the same order). */
export const SNIPPET_CHARS = 120;

/** The structured result of a tool call; falls back to the JSON text hosts always receive. */
export function structuredOf(result) {
  if (result && result.structuredContent && typeof result.structuredContent === "object") {
    return result.structuredContent;
  }
  const text = firstText(result);
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === "object" ? parsed : null;
  } catch {
    return null;
  }
}

/** The first text block of a result: a tool error's own message, written for the caller. */
export function firstText(result) {
  const block = (result && Array.isArray(result.content) ? result.content : []).find((c) => c && c.type === "text");
  return block ? String(block.text) : "";
}

/** A list row from a full item (items_get, items_add, items_update) or a summary (items_list, items_search). */
export function summaryOf(item) {
  const body = typeof item.body === "string" ? item.body : null;
  const snippet = body === null ? String(item.snippet ?? "") : body.length > SNIPPET_CHARS ? `${body.slice(0, SNIPPET_CHARS)}…` : body;
  return {
    id: String(item.id),
    title: String(item.title ?? ""),
    snippet,
    tags: Array.isArray(item.tags) ? item.tags.map(String) : [],
    version: Number(item.version),
    updated_at: String(item.updated_at ?? ""),
  };
}

function isItem(value) {
  return value && typeof value === "object" && typeof value.id === "string" && "version" in value;
}

/**
 * What a tool result shows: `{items, open}` where `open` is the id to open, or null when the
 * result is not one the board renders (a deletion, an error, another tool).
 */
export function viewOf(structured) {
  if (!structured || typeof structured !== "object") return null;
  if (Array.isArray(structured.items)) {
    return { items: structured.items.filter(isItem).map(summaryOf), open: null, more: Boolean(structured.next_cursor) };
  }
  if (isItem(structured.item)) return { items: [summaryOf(structured.item)], open: structured.item.id, more: false };
  if (isItem(structured)) return { items: [summaryOf(structured)], open: structured.id, more: false };
  return null;
}

/** Every tag of the items, sorted, each once. */
export function tagsOf(items) {
  return [...new Set(items.flatMap((item) => item.tags))].sort((a, b) => a.localeCompare(b));
}

export function filterByTag(items, tag) {
  return tag ? items.filter((item) => item.tags.includes(tag)) : items;
}

/** "work, Ideas ,, x" -> ["work", "Ideas", "x"]: the tool normalises and validates the rest. */
export function parseTags(text) {
  return [...new Set(String(text).split(",").map((t) => t.trim()).filter(Boolean))];
}

/** Replace (or prepend) a row, keeping the order of the others. */
export function upsert(items, row) {
  const at = items.findIndex((item) => item.id === row.id);
  if (at < 0) return [row, ...items];
  const next = items.slice();
  next[at] = row;
  return next;
}
