// Who we are on the network: the name and version others see (XEP-0092, XEP-0030) and the
// caps node (XEP-0115), all from package.json so a release bump changes them too.
import pkg from '../../package.json' with { type: 'json' };

export const APP = { name: pkg.productName, version: pkg.version, node: pkg.homepage } as const;
