/** Test support for cloud providers and engines (`@skein/cloud/testing`). */
export { runProviderContractTests } from './testing/contract.js'
export type { ProviderContractSetup } from './testing/contract.js'
export { FaultyProvider, DEFAULT_FAULT_PLAN } from './testing/faulty-provider.js'
export type { FaultPlan, FaultKind } from './testing/faulty-provider.js'
