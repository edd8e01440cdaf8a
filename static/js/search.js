// Keyboard and state for the search page. htmx does the requests; this file
// only moves focus, keeps the form in step with the results, keeps addresses
// free of empty parameters, and shows failed searches.
(() => {
  "use strict";
  const input = document.getElementById("search-input");
  const form = document.getElementById("search-form");
  const results = document.getElementById("results");
  const status = document.getElementById("search-status");
  const sort = document.getElementById("sort");
  if (!input || !form || !results) return;
  // The first option is the server's default sort.
  const defaultSort = sort ? sort.options[0].value : "";

  const resultLinks = () => Array.from(results.querySelectorAll(".hit h2 a"));
  const typing = (element) =>
    element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement ||
    element instanceof HTMLSelectElement || (element && element.isContentEditable);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const active = document.activeElement;
    if (event.key === "/" && !typing(active)) {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (event.key === "Escape" && (active === input || results.contains(active))) {
      event.preventDefault();
      input.value = "";
      input.focus();
      htmx.trigger(input, "search");
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const links = resultLinks();
    if (!links.length || !(active === input || links.includes(active))) return;
    event.preventDefault();
    const index = links.indexOf(active);
    if (event.key === "ArrowDown") {
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (index <= 0) {
      input.focus();
    } else {
      links[index - 1].focus();
    }
  });

  // A suggestion, a facet or a page link changes the query state: show it in the form.
  results.addEventListener("htmx:afterSettle", (event) => {
    // The address requested, with the form's parameters (requestPath lacks them).
    const path = event.detail.pathInfo && event.detail.pathInfo.finalRequestPath;
    if (!path || document.activeElement === input) return;
    const params = new URL(path, location.href).searchParams;
    input.value = params.get("q") || "";
    if (sort) sort.value = params.get("sort") || defaultSort;
  });

  // Choosing or removing a filter replaces the results and the filters: keep
  // focus on the same control (or the search box if it went) and reopen the
  // drawer and "Show more" lists that were open, so nothing moves under the
  // person. data-focus-key and data-keep-open name them across a swap.
  const byKey = (attribute, key) =>
    Array.from(document.querySelectorAll(`[${attribute}]`)).find((el) => el.getAttribute(attribute) === key);
  let focusKey = null;
  let openKeys = [];
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target !== results) return;
    const active = document.activeElement;
    focusKey = active && active.getAttribute("data-focus-key");
    openKeys = Array.from(document.querySelectorAll("details[open][data-keep-open]"), (el) =>
      el.getAttribute("data-keep-open"));
  });
  results.addEventListener("htmx:afterSettle", () => {
    for (const key of openKeys) {
      const details = byKey("data-keep-open", key);
      if (details) details.open = true;
    }
    if (focusKey) (byKey("data-focus-key", focusKey) || input).focus({ preventScroll: true });
    focusKey = null;
    openKeys = [];
  });

  // Leave empty and default values out of the request, hence out of the address
  // htmx shows: an empty box is "/", not "/?q=&sort=relevance".
  form.addEventListener("htmx:configRequest", (event) => {
    const data = event.detail.formData;
    for (const [name, value] of Array.from(data.entries())) {
      if (value === "" || (name === "sort" && value === defaultSort)) data.delete(name);
    }
  });

  // A failed search shows why where the results were, so no stale result stays
  // on screen as if it answered the query typed.
  const failed = (templateId) => () => {
    const template = document.getElementById(templateId);
    if (!template) return;
    results.replaceChildren(template.content.cloneNode(true));
    if (status) status.textContent = "";
  };
  document.body.addEventListener("htmx:sendError", failed("search-offline"));
  document.body.addEventListener("htmx:responseError", failed("search-failed"));
})();
