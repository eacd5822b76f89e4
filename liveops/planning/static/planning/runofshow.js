// Run-of-show editor: reordering by drag and drop (SortableJS) or by keyboard (arrow keys
// on a ⠿ handle), and the host view's print button. No inline scripts (the CSP forbids
// them); the new order is POSTed with fetch and the CSRF token from <body data-csrf>.
document.addEventListener("DOMContentLoaded", () => {
  const printButton = document.querySelector("[data-print]");
  if (printButton) printButton.addEventListener("click", () => window.print());

  // Each list reports in the status line of its own card.
  const say = (list, text, bad) => {
    const status = list.closest("section").querySelector(".ros-status");
    if (!status) return;
    status.hidden = false;
    status.textContent = text || (bad ? status.dataset.errorText : status.dataset.savedText);
    status.classList.toggle("ros-warn", Boolean(bad));
  };

  const save = (list) => {
    const order = Array.from(list.children).map((li) => Number(li.dataset.id));
    list.dataset.state = "saving";
    fetch(list.dataset.reorderUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": document.body.dataset.csrf,
      },
      body: JSON.stringify({ order }),
    })
      .then((response) =>
        response
          .json()
          .catch(() => ({}))
          .then((data) => ({ ok: response.ok, data })),
      )
      .then(({ ok, data }) => {
        if (!ok || !data.ok) throw new Error(data.error || "");
        Object.entries(data.times || {}).forEach(([id, t]) => {
          const li = list.querySelector(`[data-id="${id}"]`);
          if (!li) return;
          const start = li.querySelector("[data-start]");
          const end = li.querySelector("[data-end]");
          if (start) start.textContent = t.start;
          if (end) end.textContent = t.end;
          Object.entries(t.cues || {}).forEach(([cueId, clock]) => {
            const cue = li.querySelector(`[data-cue="${cueId}"]`);
            if (cue) cue.textContent = clock;
          });
        });
        list.dataset.state = "saved";
        say(list, "", false);
      })
      .catch((error) => {
        list.dataset.state = "error";
        say(list, error && error.message, true);
        // Put the list back as the server has it.
        window.setTimeout(() => window.location.reload(), 1500);
      });
  };

  document.querySelectorAll("[data-sortable]").forEach((list) => {
    list.addEventListener("keydown", (event) => {
      const handle = event.target.closest(".drag-handle");
      if (!handle || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
      event.preventDefault();
      const li = handle.closest("li");
      const sibling = event.key === "ArrowUp" ? li.previousElementSibling : li.nextElementSibling;
      if (!sibling) return;
      if (event.key === "ArrowUp") list.insertBefore(li, sibling);
      else list.insertBefore(sibling, li);
      handle.focus();
      save(list);
    });
    if (typeof Sortable === "undefined") return;
    Sortable.create(list, {
      handle: ".drag-handle",
      animation: 150,
      onEnd: (event) => {
        if (event.oldIndex !== event.newIndex) save(list);
      },
    });
  });
});
