/** State resolution v1, v2 and v2.1: public API. Pick by `RoomVersion.stateRes`. */
export { resolveState, fullConflictedSet } from './state-res-v2.ts';
export { compareAuthEventsV1, compareOtherEventsV1, partitionStateV1, resolveStateV1, type PartitionedStateV1 } from './state-res-v1.ts';
export type { AuthCheck, AuthChainOf, AuthResult, AuthStateLookup, FetchEvent, ResolveStateOptions, SenderPowerLevel } from './types.ts';
export { authChain, authChainUnion, authDifference, conflictedStateSubgraph, fullAuthChain } from './auth-chain.ts';
export {
  comparePowerOrder,
  compareMainlineOrder,
  mainline,
  mainlineOrder,
  mainlinePosition,
  reverseTopologicalPowerOrder,
  type MainlineSortKey,
  type PowerSortKey,
} from './ordering.ts';
export { iterativeAuthChecks, authStateFor, type IterativeAuthContext } from './iterative-auth.ts';
export { partitionState, type PartitionedState } from './partition.ts';
export { isPowerEvent } from './events.ts';
export { roomCreators, senderPowerLevelFromAuthEvents, userPowerLevel } from './power.ts';
export { MissingEventsError } from './missing-events.ts';
