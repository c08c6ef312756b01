/**
 * One entry point for both kinds of Windows container: `isolation: "process"`
 * builds a process-isolated container, `isolation: "hyperv"` a utility VM plus a
 * hosted container.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type { ComputeSystemDocument } from '../extensions.js';
import { checkObject } from './common.js';
import {
  buildHypervContainer,
  type HypervContainerDocuments,
  type HypervContainerOptions,
} from './hyperv-container.js';
import { buildProcessContainer, type ProcessContainerOptions } from './process-container.js';

export {
  CONTAINER_ISOLATIONS as ISOLATION_MODES,
  type ContainerIsolation as IsolationMode,
} from '../../internal/isolation.js';

export type ContainerOptions =
  | ({ isolation: 'process' } & ProcessContainerOptions)
  | ({ isolation: 'hyperv' } & HypervContainerOptions);

export type ContainerDocuments =
  | { isolation: 'process'; container: ComputeSystemDocument }
  | ({ isolation: 'hyperv' } & HypervContainerDocuments);

export function buildContainer(options: ContainerOptions): ContainerDocuments {
  checkObject('options', options);
  const { isolation, ...rest } = options as { isolation: unknown };
  if (isolation === 'process') {
    return { isolation, container: buildProcessContainer(rest as ProcessContainerOptions) };
  }
  if (isolation === 'hyperv') {
    return { isolation, ...buildHypervContainer(rest as HypervContainerOptions) };
  }
  throw new InvalidArgumentError('isolation', '"process" or "hyperv"', isolation);
}
