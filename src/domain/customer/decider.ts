import type { Decider } from '../decider.ts';
import { AlreadyExistsError, InvalidCommandError, InvalidTransitionError, NotFoundError } from '../errors.ts';
import type { CustomerDeletionReason, Pii } from '../events/common.ts';
import { instant } from '../time.ts';
import type { CreateCustomer, CustomerCommand, DeleteCustomer, RegisterCustomer } from './commands.ts';
import type { CustomerEvent } from './events.ts';

interface Profile {
  customerId: string;
  /** Email and name, encrypted with the customer's key (or legacy clear text from old events). */
  pii: Pii;
  planId: string;
  createdAt: string;
}

export type Customer =
  | { status: 'none' }
  | ({ status: 'pending' } & Profile)
  | ({ status: 'registered'; registeredAt: string } & Profile)
  /** Erased: nothing personal is kept, only what the deletion itself says. */
  | { status: 'deleted'; customerId: string; reason: CustomerDeletionReason; deletedAt: string };

export const initialState: Customer = { status: 'none' };

const notFound = (customerId: string) =>
  new NotFoundError('customer', 'customer_not_found', `customer ${customerId} does not exist`);

const deleted = (customerId: string) =>
  new InvalidTransitionError('customer', 'customer_deleted', `customer ${customerId} was deleted`);

const create = ({ data }: CreateCustomer, state: Customer): CustomerEvent[] => {
  switch (state.status) {
    case 'none': {
      const { customerId, pii, planId } = data;
      return [
        {
          type: 'CustomerCreated',
          data: { customerId, pii, planId, createdAt: instant('customer', 'createdAt', data.createdAt) },
        },
      ];
    }
    case 'pending':
    case 'registered':
      if (JSON.stringify(state.pii) === JSON.stringify(data.pii) && state.planId === data.planId) return [];
      throw new AlreadyExistsError(
        'customer',
        'customer_exists',
        `customer ${data.customerId} already exists with other data`,
      );
    case 'deleted':
      throw deleted(data.customerId);
  }
};

const register = ({ data }: RegisterCustomer, state: Customer): CustomerEvent[] => {
  switch (state.status) {
    case 'none':
      throw notFound(data.customerId);
    case 'pending': {
      const { customerId, pii, planId } = state;
      return [
        {
          type: 'CustomerRegistered',
          data: { customerId, pii, planId, registeredAt: instant('customer', 'registeredAt', data.registeredAt) },
        },
      ];
    }
    case 'registered':
      return [];
    case 'deleted':
      throw deleted(data.customerId);
  }
};

const remove = ({ data }: DeleteCustomer, state: Customer): CustomerEvent[] => {
  const event: CustomerEvent = {
    type: 'CustomerDeleted',
    data: {
      customerId: data.customerId,
      reason: data.reason,
      deletedAt: instant('customer', 'deletedAt', data.deletedAt),
    },
  };
  switch (state.status) {
    case 'none':
      // Compensation undoes the create step if it ran; when it did not, there is nothing to undo.
      if (data.reason === 'compensation') return [];
      throw notFound(data.customerId);
    case 'pending':
      return [event];
    case 'registered':
      // The registration completed (CustomerRegistered is out): only erasure may delete it now.
      if (data.reason === 'compensation') {
        throw new InvalidTransitionError(
          'customer',
          'customer_registered',
          `customer ${data.customerId} is registered: a completed registration is not compensated`,
        );
      }
      return [event];
    case 'deleted':
      return [];
  }
};

export const decide = (command: CustomerCommand, state: Customer): CustomerEvent[] => {
  if (state.status !== 'none' && state.customerId !== command.data.customerId) {
    throw new InvalidCommandError(
      'customer',
      'wrong_customer',
      `command for customer ${command.data.customerId} sent to customer ${state.customerId}`,
    );
  }
  switch (command.type) {
    case 'CreateCustomer':
      return create(command, state);
    case 'RegisterCustomer':
      return register(command, state);
    case 'DeleteCustomer':
      return remove(command, state);
  }
};

export const evolve = (state: Customer, event: CustomerEvent): Customer => {
  switch (event.type) {
    case 'CustomerCreated':
      return { status: 'pending', ...event.data };
    case 'CustomerRegistered': {
      const createdAt = state.status === 'pending' ? state.createdAt : event.data.registeredAt;
      const { customerId, pii, planId, registeredAt } = event.data;
      return { status: 'registered', customerId, pii, planId, createdAt, registeredAt };
    }
    case 'CustomerDeleted':
      return { status: 'deleted', ...event.data };
  }
};

export const customerDecider: Decider<CustomerCommand, Customer, CustomerEvent> = { decide, evolve, initialState };
