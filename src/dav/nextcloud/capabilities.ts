/**
 * The capabilities Nextcloud clients read before syncing. Chunked uploads are offered as
 * Nextcloud offers them (`dav.chunking` 1.0: /remote.php/dav/uploads, methods/chunked-ng.ts);
 * checksums are SHA1.
 */
import { NEXTCLOUD_VERSION } from './status.js';

export function capabilities(publicUrl: string): Record<string, unknown> {
  return {
    version: { ...NEXTCLOUD_VERSION, edition: '', extendedSupport: false },
    capabilities: {
      core: { pollinterval: 60, 'webdav-root': 'remote.php/webdav', 'reference-api': false, 'reference-regex': '' },
      dav: { bulkupload: '1.0', chunking: '1.0' },
      files: { bigfilechunking: false, blacklisted_files: ['.htaccess'], undelete: false, versioning: false, comments: false },
      checksums: { supportedTypes: ['SHA1'], preferredUploadType: 'SHA1' },
      files_sharing: { api_enabled: false, public: { enabled: false }, resharing: false, federation: { outgoing: false, incoming: true } },
      theming: {
        name: 'meshdav',
        url: publicUrl,
        slogan: 'a ScienceMesh node',
        color: '#0082c9',
        'color-text': '#ffffff',
        'color-element': '#0082c9',
        'color-element-bright': '#0082c9',
        'color-element-dark': '#0082c9',
        logo: '',
        background: '',
        'background-plain': true,
        'background-default': true,
      },
      user: { expire_date: { enabled: false } },
    },
  };
}
