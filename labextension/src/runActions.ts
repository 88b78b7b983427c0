import { JupyterFrontEnd } from '@jupyterlab/application';
import { InputDialog, showErrorMessage } from '@jupyterlab/apputils';
import { editIcon, launchIcon, tagIcon } from '@jupyterlab/ui-components';

import { editTags, IEditReply, IRun, renameRun } from './api';
import { CommandIDs } from './commands';
import { nameProblem, parseTags, tagChanges } from './edits';
import { RunsModel } from './model';

/** Commands on one run of the sidebar, offered in its context menu (not the palette: they need a run). */
export namespace RunCommandIDs {
  export const rename = 'jupyter-tracker:rename-run';
  export const editTags = 'jupyter-tracker:edit-tags';
  export const openCard = 'jupyter-tracker:open-run-card';
}

const ROW = '.jp-TrackerRuns .jp-TrackerRun';

/** Ask for a new name and rename the run; the sidebar shows the answer at once. */
export async function renameDialog(model: RunsModel, run: IRun): Promise<void> {
  const db = model.db;
  const answer = await InputDialog.getText({
    title: `Rename Run #${run.id}`,
    label: `New name for “${run.name}” (project ${run.project})`,
    text: run.name,
    okLabel: 'Rename'
  });
  const name = answer.value?.trim() ?? '';
  if (!answer.button.accept || name === run.name) {
    return;
  }
  const problem = nameProblem(name);
  if (problem) {
    return void showErrorMessage('Cannot rename the run', problem);
  }
  await applyEdit(model, db, 'Cannot rename the run', () =>
    renameRun(db, String(run.id), name)
  );
}

/** Ask for the run's tags (comma-separated) and send what changed. */
export async function tagsDialog(model: RunsModel, run: IRun): Promise<void> {
  const db = model.db;
  const answer = await InputDialog.getText({
    title: `Tags of ${run.name} #${run.id}`,
    label: 'Tags, separated by commas',
    text: run.tags.join(', '),
    placeholder: 'e.g. baseline, cnn',
    okLabel: 'Save'
  });
  if (!answer.button.accept) {
    return;
  }
  const { add, remove } = tagChanges(run.tags, parseTags(answer.value ?? ''));
  if (!add.length && !remove.length) {
    return;
  }
  await applyEdit(model, db, 'Cannot change the tags', () =>
    editTags(db, String(run.id), add, remove)
  );
}

async function applyEdit(
  model: RunsModel,
  db: string,
  title: string,
  send: () => Promise<IEditReply>
): Promise<void> {
  try {
    const reply = await send();
    model.applyEdit(db, reply.run);
  } catch (error) {
    await showErrorMessage(title, (error as Error).message);
  }
}

/** Rename, Edit Tags and Open Card on the run under the pointer (the sidebar's context menu). */
export function addRunCommands(app: JupyterFrontEnd, model: RunsModel): void {
  const { commands, contextMenu } = app;
  // The run a context-menu command is about: the row right-clicked, or `args.run` (an id).
  const runOf = (args: { run?: unknown }): IRun | undefined => {
    if (args.run !== undefined) {
      return model.get(Number(args.run));
    }
    const row = app.contextMenuHitTest(node =>
      node.classList.contains('jp-TrackerRun')
    );
    return row ? model.get(Number(row.dataset.runId)) : undefined;
  };

  commands.addCommand(RunCommandIDs.openCard, {
    label: 'Open Run Card',
    icon: launchIcon,
    isEnabled: args => runOf(args) !== undefined,
    execute: args => {
      const run = runOf(args);
      return run
        ? commands.execute(CommandIDs.open, {
            db: model.db,
            run: String(run.id),
            label: `${run.name} #${run.id}`
          })
        : undefined;
    }
  });
  commands.addCommand(RunCommandIDs.rename, {
    label: 'Rename Run…',
    caption: 'Give the run a new name (its id stays)',
    icon: editIcon,
    isEnabled: args => runOf(args) !== undefined,
    execute: args => {
      const run = runOf(args);
      return run ? renameDialog(model, run) : undefined;
    }
  });
  commands.addCommand(RunCommandIDs.editTags, {
    label: 'Edit Tags…',
    caption: 'Add or remove tags of the run',
    icon: tagIcon,
    isEnabled: args => runOf(args) !== undefined,
    execute: args => {
      const run = runOf(args);
      return run ? tagsDialog(model, run) : undefined;
    }
  });
  [
    RunCommandIDs.openCard,
    RunCommandIDs.rename,
    RunCommandIDs.editTags
  ].forEach((command, rank) =>
    contextMenu.addItem({ command, selector: ROW, rank })
  );
}
