import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import React from 'react';

import { IRunsActions, RunsView } from './components/RunsView';
import { trackerIcon } from './icons';
import { RunsModel } from './model';

export type { IRunsActions } from './components/RunsView';

/** The "Runs" panel of the left sidebar: re-renders whenever the model changes. */
export class RunsSidebar extends ReactWidget {
  constructor(
    readonly model: RunsModel,
    private _actions: IRunsActions,
    /** Settles once the store to show is known: polling waits for it, so no other store flashes by. */
    private _ready: Promise<unknown> = Promise.resolve()
  ) {
    super();
    this.id = 'jupyter-tracker-runs';
    this.addClass('jp-TrackerRuns');
    this.title.icon = trackerIcon;
    this.title.caption = 'Runs (jupyter-tracker)';
  }

  /** Showing the panel starts polling, and refreshes at once (the poll slows down while hidden). */
  protected onAfterShow(): void {
    void this._ready.then(() => {
      this.model.start();
      void this.model.refresh();
    });
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <RunsView model={this.model} actions={this._actions} />}
      </UseSignal>
    );
  }
}
