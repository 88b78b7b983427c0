// The anywidget module of the live run panel (assets.esm joins it after common.js and run_panel.js).

import { renderRunPanel } from "./run_panel.js";

export default {
  render({ model, el }) {
    return renderRunPanel({ model, el });
  },
};
