import { Injectable } from '@nestjs/common';

export type DependencyCheck = () => Promise<unknown>;

/**
 * Readiness checks by dependency name. The platform registers NATS, Mongo and Redis; apps add
 * their own (a consumer that stopped, a worker that is not running).
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, DependencyCheck>();

  register(name: string, check: DependencyCheck): void {
    this.checks.set(name, check);
  }

  entries(): Array<[string, DependencyCheck]> {
    return [...this.checks.entries()];
  }
}
