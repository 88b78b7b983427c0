import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { provideVega, savedOutputFactory } from './outputs';

// Loaded with JupyterLab (and Notebook 7): the live panels of the page find Vega here from the start.
provideVega();

/** Saved run panels and comparisons, drawn in every notebook's outputs. */
const extension: IRenderMime.IExtension = {
  id: 'jupyter-tracker:saved-outputs',
  description: 'Draws saved jupyter-tracker run panels and comparisons.',
  rendererFactory: savedOutputFactory,
  rank: 20,
  dataType: 'json'
};

export default extension;
