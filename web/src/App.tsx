import { AccountPage } from './account/AccountPage.tsx';
import { ConsolePage } from './console/ConsolePage.tsx';
import { SignupPage } from './signup/SignupPage.tsx';
import { usePath } from './ui/router.ts';

export function App() {
  const path = usePath();
  if (path.startsWith('/console')) return <ConsolePage path={path} />;
  if (path.startsWith('/account')) return <AccountPage />;
  return <SignupPage />;
}
