import { LabIcon } from '@jupyterlab/ui-components';

import trackerSvg from '../style/icons/tracker.svg';

export const trackerIcon = new LabIcon({
  name: 'jupyter-tracker:tracker',
  svgstr: trackerSvg
});
