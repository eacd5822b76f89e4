// Calendar: drag a session to another day, confirm in a dialog, POST with the CSRF token.
// No inline scripts (the CSP forbids them); strings come from the page, already translated.
document.addEventListener("DOMContentLoaded", () => {
  const cal = document.querySelector("[data-testid=calendar]");
  const dialog = document.getElementById("move-dialog");
  if (!cal || !dialog || !cal.dataset.canMove) return;
  const startInput = dialog.querySelector("#move-start");
  const titleEl = dialog.querySelector(".move-title");
  const errors = dialog.querySelector(".move-errors");
  const failedText = dialog.querySelector("[data-failed-text]").dataset.failedText;
  let moving = null;

  const showErrors = (messages) => {
    errors.replaceChildren(
      ...messages.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        return li;
      }),
    );
    errors.hidden = messages.length === 0;
  };

  cal.addEventListener("dragstart", (event) => {
    const chip = event.target.closest(".chip[draggable=true]");
    if (!chip) return;
    moving = chip;
    chip.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.dataset.session);
  });
  cal.addEventListener("dragend", () => {
    if (moving) moving.classList.remove("dragging");
    cal.querySelectorAll(".drop-target").forEach((d) => d.classList.remove("drop-target"));
  });
  cal.addEventListener("dragover", (event) => {
    const day = event.target.closest(".cal-day");
    if (!day || !moving) return;
    event.preventDefault();
    cal.querySelectorAll(".drop-target").forEach((d) => d !== day && d.classList.remove("drop-target"));
    day.classList.add("drop-target");
  });
  cal.addEventListener("drop", (event) => {
    const day = event.target.closest(".cal-day");
    if (!day || !moving) return;
    event.preventDefault();
    day.classList.remove("drop-target");
    openDialog(moving, day.dataset.date);
  });

  const openDialog = (chip, date) => {
    moving = chip;
    titleEl.textContent = `${chip.dataset.time} ${chip.dataset.title}`;
    startInput.value = `${date}T${chip.dataset.time}`;
    showErrors([]);
    dialog.showModal();
    startInput.focus();
  };

  dialog.addEventListener("click", async (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action === "cancel") {
      dialog.close();
    } else if (action === "confirm" && moving) {
      const body = new URLSearchParams({ session: moving.dataset.session, start: startInput.value });
      try {
        const response = await fetch(cal.dataset.rescheduleUrl, {
          method: "POST",
          headers: { "X-CSRFToken": document.body.dataset.csrf },
          body,
          credentials: "same-origin",
        });
        const data = await response.json();
        if (data.ok) {
          window.location.reload();
        } else {
          showErrors(data.errors);
        }
      } catch (_error) {
        showErrors([failedText]);
      }
    }
  });
});
