/** Injection token of the validated, typed config object of the running service. */
export const APP_CONFIG = Symbol('APP_CONFIG');
/** Injection token of the service's identity (name, default port). */
export const SERVICE_INFO = Symbol('SERVICE_INFO');

export interface ServiceInfo {
  name: 'gateway' | 'recorder' | 'analyzer' | 'executor' | 'generator';
  defaultPort: number;
}
