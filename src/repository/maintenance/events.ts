/**
 * What the shared maintenance pieces (index state, index writer, pack writer) report. Operations that use them
 * (repair, prune) take a sink of their own, wider event type; this is the part they have in common.
 */
export type MaintenanceEvent =
  | {
      readonly type: 'problem';
      readonly problem: { readonly severity: 'error' | 'warning' | 'info'; readonly code: 'index-unreadable'; readonly indexFile: string; readonly message: string };
    }
  | { readonly type: 'written'; readonly fileType: 'pack' | 'index' | 'snapshot'; readonly name: string; readonly detail?: string }
  | { readonly type: 'removed'; readonly fileType: 'pack' | 'index' | 'snapshot'; readonly name: string };

export type MaintenanceSink = (e: MaintenanceEvent) => void;
