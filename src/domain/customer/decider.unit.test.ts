import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../../test/support/decider-spec.ts';
import { EventCatalog } from '../../kernel/catalog/catalog.ts';
import { AlreadyExistsError, InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import { seedEvents } from '../events/index.ts';
import type { CreateCustomer, DeleteCustomer, RegisterCustomer } from './commands.ts';
import { customerDecider } from './decider.ts';
import type { CustomerEvent } from './events.ts';

const catalog = new EventCatalog(seedEvents);
const { given } = deciderSpec(customerDecider, { validate: (event) => catalog.validate(event.type, event.data) });

const customerId = '01890a5d-ac96-774b-bcce-b302099a8057';
const pii = {
  alg: 'A256GCM' as const,
  iv: 'aXYxMjM0NTY3ODkw',
  ciphertext: 'Y2lwaGVydGV4dA',
  tag: 'dGFnMTIzNDU2Nzg5MDEy',
};
const profile = { customerId, pii, planId: 'pro-monthly' };

const create = (overrides: Partial<CreateCustomer['data']> = {}): CreateCustomer => ({
  type: 'CreateCustomer',
  data: { ...profile, createdAt: '2025-01-15T10:00:00.000Z', ...overrides },
});
const register: RegisterCustomer = {
  type: 'RegisterCustomer',
  data: { customerId, registeredAt: '2025-01-15T10:00:03.000Z' },
};
const remove = (reason: DeleteCustomer['data']['reason']): DeleteCustomer => ({
  type: 'DeleteCustomer',
  data: { customerId, reason, deletedAt: '2025-01-15T10:00:05.000Z' },
});

const created: CustomerEvent = { type: 'CustomerCreated', data: { ...profile, createdAt: '2025-01-15T10:00:00.000Z' } };
const registered: CustomerEvent = {
  type: 'CustomerRegistered',
  data: { ...profile, registeredAt: '2025-01-15T10:00:03.000Z' },
};
const deleted = (reason: 'compensation' | 'erasure'): CustomerEvent => ({
  type: 'CustomerDeleted',
  data: { customerId, reason, deletedAt: '2025-01-15T10:00:05.000Z' },
});

describe('Customer', () => {
  describe('CreateCustomer', () => {
    it('creates a pending customer', () => {
      const state = given([]).when(create()).then([created]);
      expect(state).toEqual({ status: 'pending', ...profile, createdAt: '2025-01-15T10:00:00.000Z' });
    });

    it('writes the time as the events carry it', () => {
      given([])
        .when(create({ createdAt: '2025-01-15T10:00:00Z' }))
        .then([created]);
    });

    it('keeps only the profile, whatever else the command carries', () => {
      const command = create();
      given([])
        .when({ ...command, data: { ...command.data, password: 'hunter2' } as CreateCustomer['data'] })
        .then([created]);
    });

    it('is idempotent: the same customer again says nothing new', () => {
      given([created]).when(create()).then([]);
      given([created, registered]).when(create()).then([]);
    });

    it('refuses the same id with other data', () => {
      given([created])
        .when(create({ pii: { ...pii, ciphertext: 'b3RoZXI' } }))
        .thenThrows(AlreadyExistsError, 'customer_exists');
    });

    it('refuses to bring a deleted customer back', () => {
      given([created, deleted('compensation')])
        .when(create())
        .thenThrows(InvalidTransitionError, 'customer_deleted');
    });

    it('refuses something that is not a time', () => {
      given([])
        .when(create({ createdAt: 'yesterday' }))
        .thenThrows(InvalidCommandError, 'invalid_time');
    });
  });

  describe('RegisterCustomer', () => {
    it('registers a pending customer, carrying its profile to the welcome email', () => {
      const state = given([created]).when(register).then([registered]);
      expect(state).toMatchObject({ status: 'registered', registeredAt: '2025-01-15T10:00:03.000Z' });
    });

    it('is idempotent', () => {
      given([created, registered]).when(register).then([]);
    });

    it('refuses an unknown customer', () => {
      given([]).when(register).thenThrows(NotFoundError, 'customer_not_found');
    });

    it('refuses a deleted customer, so a compensated registration never publishes CustomerRegistered', () => {
      given([created, deleted('compensation')])
        .when(register)
        .thenThrows(InvalidTransitionError, 'customer_deleted');
    });
  });

  describe('DeleteCustomer', () => {
    it('compensates a pending customer and keeps no personal data', () => {
      const state = given([created])
        .when(remove('compensation'))
        .then([deleted('compensation')]);
      expect(state).toEqual({
        status: 'deleted',
        customerId,
        reason: 'compensation',
        deletedAt: '2025-01-15T10:00:05.000Z',
      });
      expect(JSON.stringify(state)).not.toMatch(/ada|lovelace/i);
    });

    it('erases a registered customer and keeps no personal data', () => {
      const state = given([created, registered])
        .when(remove('erasure'))
        .then([deleted('erasure')]);
      expect(JSON.stringify(state)).not.toMatch(/ada|lovelace/i);
    });

    it('refuses to compensate a registered customer: its registration completed', () => {
      given([created, registered])
        .when(remove('compensation'))
        .thenThrows(InvalidTransitionError, 'customer_registered');
    });

    it('is idempotent', () => {
      given([created, deleted('compensation')])
        .when(remove('compensation'))
        .then([]);
      given([created, deleted('compensation')])
        .when(remove('erasure'))
        .then([]);
    });

    it('compensates a create step that never ran with nothing', () => {
      given([]).when(remove('compensation')).then([]);
    });

    it('refuses to erase an unknown customer', () => {
      given([]).when(remove('erasure')).thenThrows(NotFoundError, 'customer_not_found');
    });
  });

  it('refuses a command for another customer', () => {
    given([created])
      .when({
        type: 'RegisterCustomer',
        data: { customerId: '01890a5d-ac96-774b-bcce-b302099a8000', registeredAt: '2025-01-15T10:00:03.000Z' },
      })
      .thenThrows(InvalidCommandError, 'wrong_customer');
  });
});
