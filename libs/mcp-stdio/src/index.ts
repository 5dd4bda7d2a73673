export { parseCliArgs, USAGE, DEFAULT_URL, type CliCommand } from './cli-args';
export { connectGateway, explain, GatewayUnavailableError, type GatewayOptions } from './gateway-connection';
export { startForwarder, type Forwarder } from './stdio-forwarder';
