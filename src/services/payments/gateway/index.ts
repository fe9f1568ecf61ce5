export {
  gatewayMigrations,
  MemoryChargeStore,
  SqlChargeStore,
  type ChargeStore,
  type RefundState,
  type StoredRefund,
} from './charge-store.ts';
export {
  chargeRequestSchema,
  chargeResultOf,
  chargeResultSchema,
  declineCode,
  GatewayError,
  GatewayTimeoutError,
  GatewayUnavailableError,
  gatewayChargeSchema,
  IdempotencyKeyReuseError,
  InvalidGatewayRequestError,
  MAX_CHARGE_AMOUNT,
  RefundRefusedError,
  refundRequestSchema,
  refundResultSchema,
  UnknownChargeError,
  UnknownPaymentMethodError,
  type ChargeDeclined,
  type ChargeRequest,
  type ChargeResult,
  type ChargeSucceeded,
  type DeclineCode,
  type GatewayCharge,
  type PaymentGateway,
  type RefundRefusal,
  type RefundRequest,
  type RefundResult,
} from './gateway.ts';
export { buildGatewayServer, type GatewayServerOptions } from './gateway-server.ts';
export { startGatewayService, type GatewayService, type GatewayServiceOptions } from './gateway-service.ts';
export { HttpGateway, type HttpGatewayOptions } from './http-gateway.ts';
export { errorFromProblem, GATEWAY_PROBLEM_BASE, gatewayProblem, type GatewayProblem } from './problems.ts';
export {
  faultKinds,
  gatewayOperations,
  SimulatedGateway,
  TEST_PAYMENT_METHODS,
  type FaultKind,
  type GatewayCounters,
  type GatewayOperation,
  type SimulatedGatewayOptions,
} from './simulated-gateway.ts';
