/** The tax arithmetic is the domain's: a charge records its tax when it is captured (see domain/tax.ts). */
export { inclusiveTax, roundHalfUp } from '../../domain/tax.ts';
