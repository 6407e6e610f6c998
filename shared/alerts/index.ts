export { type Alert, accessDeniedAlert, rotationAlert } from './alert.js';
export { type AlertConfig, loadAlertConfig } from './config.js';
export {
  ACCESS_DENIED_CODES,
  type AccessDeniedEvent,
  type Caller,
  classifyEvent,
  type IgnoredEvent,
  type RotationOutcomeEvent,
  RotationOutcomeEvents,
  type RotationOutcomeName,
  type SecretsManagerEvent,
  secretNameOf,
} from './events.js';
export {
  type EventHandlingDependencies,
  type EventHandlingResult,
  handleSecretsManagerEvent,
} from './handle.js';
export {
  countMetric,
  METRICS_NAMESPACE,
  type MetricsSink,
  publishedAtOnce,
  RotationMetric,
} from './metrics.js';
export { ACCESS_DENIED_PATTERN, type EventPattern, ROTATION_OUTCOME_PATTERN } from './patterns.js';
export { AlertDeliveryError, type AlertPublisher, alertTopicArn, SnsAlertPublisher } from './publisher.js';
