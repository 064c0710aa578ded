/**
 * Hidden Markov models and their exact emulation by recurrent networks (issue 6, "Classical bridges").
 * @module
 */
export * from './hmm.js';
export * from './hmm-rnn.js';
