// The item board: an MCP App. Every action is a tool call made through the host
// (App.callServerTool); the page itself holds no credential and opens no connection.
import { App, applyDocumentTheme, applyHostFonts, applyHostStyleVariables } from "@modelcontextprotocol/ext-apps";
import { filterByTag, firstText, parseTags, structuredOf, summaryOf, tagsOf, upsert, viewOf } from "./model.js";

const $ = (id) => document.getElementById(id);
const ui = {
  board: $("board"), count: $("count"), tags: $("tags"), status: $("status"), list: $("list"),
  detail: $("detail"), editor: $("editor"), heading: $("editor-heading"), meta: $("meta"), error: $("error"),
  save: $("save"), close: $("close"), del: $("delete"), confirm: $("confirm"), confirmText: $("confirm-text"),
  confirmYes: $("confirm-yes"), confirmNo: $("confirm-no"), refresh: $("refresh"), add: $("new"),
};

const state = {
  items: [],
  more: false,
  tag: null,
  /** The item open in the editor, as items_get returned it; null while adding a new one. */
  open: null,
  editing: false,
  /** The listing call to repeat on Refresh: the tool the host called, when it was a listing. */
  query: { name: "items_list", arguments: {} },
};

const app = new App({ name: "mcp-lambda item board", version: "1.0.0" }, {}, { autoResize: true });

function say(text) {
  ui.status.textContent = text;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function chip(text) {
  const span = document.createElement("span");
  span.className = "tag";
  span.textContent = text;
  return span;
}

function renderTags() {
  ui.tags.replaceChildren();
  const tags = tagsOf(state.items);
  if (state.tag && !tags.includes(state.tag)) state.tag = null;
  for (const tag of [null, ...tags]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tag";
    button.textContent = tag ?? "all";
    button.dataset.tag = tag ?? "";
    button.setAttribute("aria-pressed", String(state.tag === tag));
    button.addEventListener("click", () => {
      state.tag = tag;
      render();
    });
    ui.tags.append(button);
  }
}

function renderList() {
  const shown = filterByTag(state.items, state.tag);
  ui.count.textContent = `${shown.length}${state.tag ? ` of ${state.items.length}` : ""}${state.more ? "+" : ""}`;
  ui.list.replaceChildren();
  if (!shown.length) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = state.items.length ? "No item carries this tag." : "No items yet.";
    ui.list.append(empty);
    return;
  }
  for (const item of shown) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.id = item.id;
    button.setAttribute("aria-current", String(state.open?.id === item.id));
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = item.title;
    const snippet = document.createElement("span");
    snippet.className = "snippet";
    snippet.textContent = item.snippet || "—";
    const chips = document.createElement("span");
    chips.className = "chips";
    chips.append(...item.tags.map(chip), Object.assign(document.createElement("span"), { className: "muted", textContent: `v${item.version}` }));
    button.append(title, snippet, chips);
    button.addEventListener("click", () => openItem(item.id));
    li.append(button);
    ui.list.append(li);
  }
}

function render() {
  renderTags();
  renderList();
}

function setBusy(busy) {
  ui.board.setAttribute("aria-busy", String(busy));
  for (const button of [ui.save, ui.del, ui.confirmYes, ui.refresh, ui.add]) button.disabled = busy;
}

/** One tool call through the host. Resolves to the result; a tool error is a result with isError. */
async function call(name, args) {
  setBusy(true);
  try {
    return await app.callServerTool({ name, arguments: args });
  } finally {
    setBusy(false);
  }
}

function fillEditor(item) {
  const form = ui.editor.elements;
  form.title.value = item ? item.title : "";
  form.body.value = item ? item.body : "";
  form.tags.value = item ? item.tags.join(", ") : state.tag ?? "";
  ui.heading.textContent = item ? "Edit item" : "New item";
  ui.meta.textContent = item ? `version ${item.version} · updated ${item.updated_at}` : "";
  ui.del.hidden = !item;
  ui.confirm.hidden = true;
  showError("");
  ui.detail.hidden = false;
  state.editing = true;
}

function closeEditor() {
  state.open = null;
  state.editing = false;
  ui.detail.hidden = true;
  render();
}

async function openItem(id) {
  say("Opening…");
  const result = await call("items_get", { id });
  if (result.isError) {
    say("");
    fillEditor(null);
    showError(firstText(result));
    return;
  }
  state.open = structuredOf(result);
  state.items = upsert(state.items, summaryOf(state.open));
  fillEditor(state.open);
  render();
  say("");
}

async function save(event) {
  event.preventDefault();
  const form = ui.editor.elements;
  const fields = { title: form.title.value, body: form.body.value, tags: parseTags(form.tags.value) };
  const open = state.open;
  const result = open
    ? await call("items_update", { id: open.id, expected_version: open.version, ...fields })
    : await call("items_add", fields);
  if (result.isError) {
    // The tool's own words: a conflict says which version is current and what to do.
    showError(firstText(result));
    say("");
    return;
  }
  const structured = structuredOf(result);
  const item = open ? structured : structured.item;
  state.open = item;
  state.items = upsert(state.items, summaryOf(item));
  fillEditor(item);
  render();
  say(open ? `Saved “${item.title}” (version ${item.version}).` : `Added “${item.title}”.`);
}

async function remove() {
  const open = state.open;
  ui.confirm.hidden = true;
  const result = await call("items_delete", { id: open.id, expected_version: open.version });
  if (result.isError) {
    showError(firstText(result));
    return;
  }
  state.items = state.items.filter((item) => item.id !== open.id);
  closeEditor();
  say(`Deleted “${open.title}”.`);
}

async function refresh() {
  say("Loading…");
  const result = await call(state.query.name, state.query.arguments);
  if (result.isError) {
    say(firstText(result));
    return;
  }
  show(structuredOf(result));
}

function show(structured) {
  const view = viewOf(structured);
  if (!view) return false;
  state.items = view.items;
  state.more = view.more;
  render();
  say(view.more ? "More items exist: narrow with a search, or ask for the next page." : "");
  if (view.open) openItem(view.open);
  return true;
}

function applyContext(context) {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
}

// Handlers first: the host may send the tool's input and result right after the handshake.
app.addEventListener("toolinput", (params) => {
  const tool = app.getHostContext()?.toolInfo?.tool?.name;
  if (tool === "items_list" || tool === "items_search") state.query = { name: tool, arguments: params.arguments ?? {} };
});
app.addEventListener("toolresult", (result) => {
  if (result.isError) {
    say(firstText(result));
  } else if (!show(structuredOf(result))) {
    refresh();
  }
});
app.addEventListener("hostcontextchanged", applyContext);
app.onteardown = async () => ({});

ui.editor.addEventListener("submit", save);
ui.close.addEventListener("click", closeEditor);
ui.del.addEventListener("click", () => {
  ui.confirmText.textContent = `Delete “${state.open.title}”? This cannot be undone.`;
  ui.confirm.hidden = false;
  ui.confirmNo.focus();
});
ui.confirmNo.addEventListener("click", () => {
  ui.confirm.hidden = true;
});
ui.confirmYes.addEventListener("click", remove);
ui.refresh.addEventListener("click", refresh);
ui.add.addEventListener("click", () => {
  state.open = null;
  fillEditor(null);
  render();
  ui.editor.elements.title.focus();
});

render();
say("Waiting for the tool result…");
app.connect().then(
  () => {
    applyContext(app.getHostContext());
    ui.board.setAttribute("aria-busy", "false");
  },
  (error) => say(`Could not reach the host: ${error?.message ?? error}`),
);
