import { Alert, Button, Center, Paper, PasswordInput, Stack, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { signIn } from '../api/session';

/** Sign-in with an API key: the gateway answers with a session cookie; the key is not kept in the page. */
export function SignInPage() {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const queries = useQueryClient();
  return (
    <Center h="100vh">
      <Paper withBorder p="xl" w={420} component="main">
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              await signIn(key.trim());
              queries.clear();
              navigate('/');
            } catch (err) {
              setError((err as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          <Stack>
            <Title order={1} size="h2">
              Sign in to Toolpath
            </Title>
            <PasswordInput label="API key" value={key} onChange={(e) => setKey(e.currentTarget.value)} required autoFocus />
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
