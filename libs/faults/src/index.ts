export {
  createFaults,
  faultConfigShape,
  faultErrors,
  faultSettingsOf,
  type FaultConfig,
  type FaultOptions,
  type FaultSettings,
  type Faults,
} from './faults.ts';
