// Ruta console: the only script. Pages work without it; it adds progress on long forms
// and asks before irreversible actions.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  if (button) {
    // A second click would post twice; the idempotency key covers it, this says why nothing moves.
    setTimeout(() => { button.disabled = true; }, 0);
  }
  const progress = form.getAttribute("data-progress");
  if (progress) {
    const note = document.createElement("p");
    note.className = "progress";
    note.setAttribute("role", "status");
    note.textContent = progress;
    form.appendChild(note);
  }
});
