function renderCompare({ model, el }) { el.textContent = "comparison"; }
