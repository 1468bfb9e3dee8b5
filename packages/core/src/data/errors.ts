export { DataError } from '../errors.js';
