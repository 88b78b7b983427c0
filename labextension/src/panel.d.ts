// Types of the run panel's and comparison's ES modules, shared with the kernel's live widget. They live
// in the Python package (jupyter_tracker/notebook/widgets/); the build bundles them from there.

declare module '*/notebook/widgets/common.js' {
  export const VEGA_RUNTIME: string;
  export interface ISavedModel {
    get(name: string): any;
    on(event: string, listener: (payload: any) => void): void;
    send(message: any): void;
    emit(event: string, payload: any): void;
  }
  export function savedModel(
    data: any,
    send?: (message: any) => void
  ): ISavedModel;
}

declare module '*/notebook/widgets/run_panel.js' {
  export function renderRunPanel(options: {
    model: any;
    el: HTMLElement;
  }): () => void;
}

declare module '*/notebook/widgets/compare.js' {
  export function renderCompare(options: {
    model: any;
    el: HTMLElement;
  }): () => void;
}

// vega-embed's own types need moduleResolution "bundler"; the panels use it untyped.
declare module 'vega-embed' {
  const embed: (el: HTMLElement, spec: any, options?: any) => Promise<any>;
  export default embed;
}
