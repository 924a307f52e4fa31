// The operator's only writes to the cluster, besides its Lease: a NetworkLab's status subresource and
// Events on condition transitions.
import pRetry, { AbortError } from 'p-retry';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import { GROUP, KIND, PLURAL, VERSION } from './lab.ts';
import { PROGRESSING, type NetworkLabStatus, type Transition } from './status.ts';

export interface LabRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface StatusWriter {
  /** Writes the status subresource; `resourceVersion` is the version the status was computed from. */
  write(lab: LabRef, status: NetworkLabStatus, resourceVersion: string | undefined): Promise<void>;
}

export interface EventRecorder {
  record(lab: LabRef, transition: Transition): Promise<void>;
}

export class LabGoneError extends Error {
  constructor(lab: LabRef) {
    super(`NetworkLab ${lab.namespace}/${lab.name} no longer exists`);
    this.name = 'LabGoneError';
  }
}

function labPath(lab: LabRef): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(lab.namespace)}/${PLURAL}/${encodeURIComponent(lab.name)}`;
}

function retriable(error: unknown): boolean {
  // Conflicts (someone else wrote first), throttling and server-side trouble pass; a 4xx will not.
  if (!(error instanceof KubeApiError)) return true; // network error, timeout
  return error.statusCode === 409 || error.statusCode === 429 || error.statusCode >= 500;
}

export interface StatusWriterOptions {
  retries?: number;
  minTimeoutMs?: number;
}

/**
 * PUT on the status subresource, with the resourceVersion the status was computed from. On a conflict
 * the lab's current resourceVersion is read and the same status written again: the status describes the
 * cluster, not the lab object, so a newer lab object does not make it wrong (a spec change has its own
 * check queued, which writes a newer observedGeneration).
 */
export function statusWriter(client: KubeClient, options: StatusWriterOptions = {}): StatusWriter {
  return {
    async write(lab, status, resourceVersion) {
      let version = resourceVersion;
      await pRetry(
        async () => {
          const body = { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name: lab.name, namespace: lab.namespace, uid: lab.uid, resourceVersion: version }, status };
          try {
            await client.request('PUT', `${labPath(lab)}/status`, body);
          } catch (error) {
            if (error instanceof KubeApiError && error.statusCode === 404) throw new AbortError(new LabGoneError(lab));
            // A uid precondition failure: the lab was deleted and created again under the same name.
            if (error instanceof KubeApiError && error.statusCode === 409 && /uid/i.test(error.message)) throw new AbortError(new LabGoneError(lab));
            if (error instanceof KubeApiError && error.statusCode === 409) {
              const fresh = (await client.request('GET', labPath(lab))) as { metadata?: { resourceVersion?: string; uid?: string } };
              if (fresh.metadata?.uid !== lab.uid) throw new AbortError(new LabGoneError(lab));
              version = fresh.metadata?.resourceVersion;
            }
            throw error;
          }
        },
        { retries: options.retries ?? 4, minTimeout: options.minTimeoutMs ?? 100, factor: 2, randomize: true, shouldRetry: ({ error }) => retriable(error) },
      );
    },
  };
}

export const EVENT_MESSAGE_LIMIT = 1024;

/** A transition to a bad state is a Warning: a layer (or Ready) turning False, or a probe failing. Progressing=False is good news. */
export function isWarning(transition: Transition): boolean {
  if (transition.type === PROGRESSING) return false;
  return transition.to === 'False' || (transition.to === 'Unknown' && transition.reason === 'ProbeFailed');
}

/** core/v1 Events on the lab, so `kubectl describe nlab` shows the history of its conditions. */
export function eventRecorder(client: KubeClient, reportingInstance: string): EventRecorder {
  return {
    async record(lab, transition) {
      const now = new Date().toISOString();
      const warning = isWarning(transition);
      const from = transition.from === null ? 'set' : `${transition.from} ->`;
      const message = `${transition.type} ${from} ${transition.to}: ${transition.message}`;
      await client.request('POST', `/api/v1/namespaces/${encodeURIComponent(lab.namespace)}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${lab.name}.`, namespace: lab.namespace },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: lab.name, namespace: lab.namespace, uid: lab.uid },
        reason: transition.reason,
        message: message.length > EVENT_MESSAGE_LIMIT ? `${message.slice(0, EVENT_MESSAGE_LIMIT - 1)}…` : message,
        type: warning ? 'Warning' : 'Normal',
        source: { component: 'netlab-operator' },
        reportingComponent: 'netlab.dev/operator',
        reportingInstance,
        action: 'Check',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    },
  };
}
