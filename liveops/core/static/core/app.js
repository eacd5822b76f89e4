// Small behaviours that need no framework. No inline scripts (the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // HTMX requests carry the CSRF token from <body data-csrf>.
  document.body.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = document.body.dataset.csrf;
  });
  document.querySelectorAll("button.copy").forEach((button) => {
    button.addEventListener("click", () => {
      const source = button.parentElement.querySelector(button.dataset.copy);
      if (!source) return;
      source.select();
      if (navigator.clipboard) navigator.clipboard.writeText(source.value);
    });
  });
  // Close the workspace switcher when clicking elsewhere.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.switcher[open]").forEach((d) => {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });
});
