/**
 * The policy engine's public API: load or check a policy set, decide what a requester may see of a record, and the
 * final release step. Endpoints and the CLI import from here.
 */
export { PolicySet, canonicalJson, checkPolicyDocument, policySetFromDocument, policyVersionOf, type PolicyRule } from './compile.js';
export { decide, REASON_DEFAULT, type Decision, type DecideOptions, type Withheld } from './decide.js';
export { DecisionCache } from './decision-cache.js';
export { OPERATORS } from './conditions.js';
export { checkPolicyShape, policyDocumentSchema, type PolicyDocument, type PolicyRuleDocument } from './document.js';
export { REQUESTER_ORG, CONTEXT_FIELDS } from './fields.js';
export { MEDISCHE_KERN, guardrailFor } from './guardrails.js';
export { checkPolicyDirectory, loadPolicyDirectory } from './load.js';
export { release, type RecordView } from './release.js';
