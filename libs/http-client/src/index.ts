export {
  UpstreamUnavailableError,
  createHttpClient,
  type ClientRequest,
  type ClientResponse,
  type HttpClient,
  type HttpClientOptions,
} from './http-client.ts';
